{# The channels consent is kept for (var consent__channels), one row each: the rows a
   per-channel rule (a manual entry for "all", a deletion request) fans out over. #}
{% macro consent_channels() -%}
    {%- for channel in var('consent__channels') %}
        select '{{ channel }}' as channel
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
{%- endmacro %}
