{# Marks each raw row with the reason it is set aside, or null when it is good: the first
   failing check in `checks` (a list of [condition, reason]), else 'duplicate_id' for every
   good row after the first of its id in `keep_first_by` order. Nothing is dropped here:
   staging keeps the rows whose quarantine_reason is null, the quarantine mart the others.
   `held_ids`: a query of the ids already accepted by an earlier (incremental) build; a good
   row with one of them is a 'duplicate_id' too. #}
{% macro validate_and_dedupe(relation, checks, id_column, keep_first_by, held_ids=none) -%}
    select
        checked.*,
        coalesce(
            checked.failed_check,
            case
                {%- if held_ids is not none %}
                when checked.{{ id_column }} in ({{ held_ids }}) then 'duplicate_id'
                {%- endif %}
                when row_number() over (
                    partition by checked.{{ id_column }}, checked.failed_check
                    order by {{ keep_first_by }}
                ) > 1 then 'duplicate_id'
            end
        ) as quarantine_reason
    from (
        select
            {{ relation }}.*,
            case
                {%- for condition, reason in checks %}
                when {{ condition }} then '{{ reason }}'
                {%- endfor %}
            end as failed_check
        from {{ relation }}
    ) as checked
{%- endmacro %}
