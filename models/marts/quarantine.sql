{#- Every raw row that staging set aside, with the reason and the file and row it came from
    (so nothing is lost: fix the source or the seed and re-load). -#}
{#- the raw tables and their base models: macros/quality/staged_sources.sql -#}

with

{% for staged in staged_sources() %}
    {{ staged.source_table }} as (
        select
            '{{ staged.source_table }}' as source_table,
            {{ staged.id_column }} as record_id,
            quarantine_reason,
            raw_timestamp,
            _source_file as source_file,
            _source_row_number as source_row_number,
            _loaded_at as loaded_at
        from {{ ref(staged.base_model) }}
        where quarantine_reason is not null
    ),
{% endfor %}

unioned as (
    {% for staged in staged_sources() %}
        select * from {{ staged.source_table }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        -- a row of a table not landed by `audience load` has no row number: its id says which
        {{ dbt.hash(dbt.concat([
            'source_file', "'|'",
            "coalesce(" ~ dbt.cast('source_row_number', dbt.type_string()) ~ ", 'id:' || coalesce(record_id, ''))",
        ])) }} as quarantine_id,
        source_table,
        record_id,
        quarantine_reason,
        raw_timestamp,
        source_file,
        source_row_number,
        loaded_at
    from unioned
)

select * from final
