{# A bounce's type from the SMTP status the receiving server gave, when the vendor's own
   classification does not say: a permanent failure (5xx, enhanced 5.x.x) is hard, a
   temporary one (4xx, 4.x.x) soft; anything else unknown (null). #}
{% macro bounce_type_from_smtp(status) -%}
    case
        when trim({{ status }}) like '5%' then 'hard'
        when trim({{ status }}) like '4%' then 'soft'
    end
{%- endmacro %}
