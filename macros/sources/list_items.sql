{# One row per item of a delimited list column (HubSpot's `property_hs_merged_object_ids`,
   '123;456'): `list_key` (the row's key column, as given) and `list_item` (trimmed; empty
   items left out), for the rows of `relation` whose list is not null. Plain split_part, one
   select per position up to `max_items`, so it runs on every engine alike (no unnest). #}
{% macro list_items(relation, key, list_column, separator, max_items) -%}
    {%- for position in range(1, max_items + 1) -%}
    {%- if not loop.first %}
    union all
    {% endif -%}
    select
        {{ key }} as list_key,
        nullif(trim({{ dbt.split_part(list_column, "'" ~ separator ~ "'", position) }}), '') as list_item
    from {{ relation }}
    where {{ list_column }} is not null
    {%- endfor %}
{%- endmacro %}
