{# The columns every base model keeps so a quarantined row can be found in its file again:
   the raw timestamp text as written, the file, the row in it, and the load time. #}
{% macro lineage_columns(raw_timestamp) -%}
    {{ raw_timestamp }} as raw_timestamp,
    _source_file,
    _source_row_number,
    _loaded_at
{%- endmacro %}
