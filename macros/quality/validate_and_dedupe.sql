{# Marks each raw row with the reason it is set aside, or null when it is good: the first
   failing check in `checks` (a list of [condition, reason]), else 'duplicate_id' for every
   good row after the first of its id in `keep_first_by` order. Nothing is dropped here:
   staging keeps the rows whose quarantine_reason is null, the quarantine mart the others.
   `held_ids`: a query of the ids already accepted by an earlier (incremental) build; a good
   row with one of them is a 'duplicate_id' too. #}
{% macro validate_and_dedupe(relation, checks, id_column, keep_first_by, held_ids=none) -%}
    {#- Only ids that occur more than once are ranked (duplicates are rare): ranking every
        row would sort the whole table with all its columns. Raw rows are told apart by
        their file and row. -#}
    with

    checked as (
        select
            {{ relation }}.*,
            case
                {%- for condition, reason in checks %}
                when {{ condition }} then '{{ reason }}'
                {%- endfor %}
            end as failed_check
        from {{ relation }}
    ),

    repeated_ids as (
        select {{ id_column }}
        from checked
        where failed_check is null
        group by {{ id_column }}
        having count(*) > 1
    ),

    later_copies as (
        select
            _source_file,
            _source_row_number
        from (
            select
                _source_file,
                _source_row_number,
                row_number() over (
                    partition by {{ id_column }}
                    order by {{ keep_first_by }}
                ) as copy_number
            from checked
            where
                failed_check is null
                and {{ id_column }} in (select repeated_ids.{{ id_column }} from repeated_ids)
        ) as numbered
        where copy_number > 1
    )

    select
        checked.*,
        coalesce(
            checked.failed_check,
            case
                {%- if held_ids is not none %}
                when checked.{{ id_column }} in ({{ held_ids }}) then 'duplicate_id'
                {%- endif %}
                when later_copies._source_file is not null then 'duplicate_id'
            end
        ) as quarantine_reason
    from checked
    left join later_copies
        on
            checked._source_file = later_copies._source_file
            and checked._source_row_number = later_copies._source_row_number
{%- endmacro %}
