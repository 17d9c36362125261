{# A history snapshot is a function of the instants it was built as of: the value of a key
   at each build instant, kept as spells (dbt_valid_from, dbt_valid_to) of equal values. A
   build as of an instant after every one the snapshot holds appends (dbt's own merge); a
   build as of an instant it already holds (a rerun) or before its latest (a backfill, a daily
   build after a realtime one) sets the value at that instant and leaves every other instant
   as it was (history_set_instant_sql). Either way the table equals a replay of the same
   builds. The instants are kept beside the snapshot, since an instant at which nothing
   changed leaves no trace in the spells. #}

{% macro history_instants_relation(snapshot_relation) -%}
    {{ return(api.Relation.create(
        database=snapshot_relation.database, schema=snapshot_relation.schema,
        identifier=snapshot_relation.identifier ~ '__builds')) }}
{%- endmacro %}

{# Every instant the snapshot was built as of: the kept ones, and (for a snapshot older than
   that table) every instant its spells start or end at. #}
{% macro history_instants_sql(snapshot_relation) -%}
    {%- set kept = load_relation(history_instants_relation(snapshot_relation)) -%}
    select dbt_valid_from as instant from {{ snapshot_relation }}
    union
    select dbt_valid_to as instant from {{ snapshot_relation }} where dbt_valid_to is not null
    {%- if kept is not none %}
        union
        select built_as_of as instant from {{ kept }}
    {%- endif %}
{%- endmacro %}

{# True when the snapshot already holds history at or after this build's as_of. #}
{% macro history_holds_instant_at_or_after_as_of(snapshot_relation) -%}
    {%- set later = run_query(
        'select count(*) from (' ~ history_instants_sql(snapshot_relation) ~ ') as instants'
        ~ ' where instant >= ' ~ as_of()
    ).columns[0].values()[0] | int -%}
    {{ return(later > 0) }}
{%- endmacro %}

{# True when the snapshot holds history before this build's as_of: a build before it, whose
   state a build may carry forward. #}
{% macro history_holds_instant_before_as_of(snapshot_relation) -%}
    {%- set earlier = run_query(
        'select count(*) from (' ~ history_instants_sql(snapshot_relation) ~ ') as instants'
        ~ ' where instant < ' ~ as_of()
    ).columns[0].values()[0] | int -%}
    {{ return(earlier > 0) }}
{%- endmacro %}

{# Post-hook of each history snapshot: remember this build's instant. #}
{% macro remember_history_instant() -%}
    {%- if execute and model.resource_type == 'snapshot' -%}
        {%- set kept = history_instants_relation(this) -%}
        {%- if load_relation(kept) is none -%}
            {%- do run_query('create table ' ~ kept ~ ' (built_as_of ' ~ dbt.type_timestamp() ~ ')'
                ~ (' using ' ~ (config.get('file_format') or 'parquet') if target.type == 'spark' else '')) -%}
        {%- endif -%}
        {%- do run_query('insert into ' ~ kept ~ ' (built_as_of) select candidate.built_as_of from '
            ~ '(select ' ~ as_of() ~ ' as built_as_of) as candidate where candidate.built_as_of '
            ~ 'not in (select built_as_of from ' ~ kept ~ ')') -%}
    {%- endif -%}
    select 1 as history_instant_remembered
{%- endmacro %}

{# The rows a snapshot considers current before this build writes to it: the spells covering
   the build before as_of (its latest instant before as_of). An instant at or after as_of,
   from a rerun or a later build, is not looked at: a build sees the history before it. #}
{% macro history_state_before_as_of() -%}
    dbt_valid_from < {{ as_of() }}
    and (dbt_valid_to is null or dbt_valid_to >= {{ as_of() }})
{%- endmacro %}

{# dbt's snapshot merge, for DuckDB and PostgreSQL: the usual append (`appended`, dbt's own
   merge for the adapter) when this build is later than all history, else the value at
   as_of is set in place. #}
{% macro history_merge_sql(target, insert_cols, appended) -%}
    {%- if history_holds_instant_at_or_after_as_of(target) -%}
        {{ history_set_instant_sql(target, insert_cols) }}
    {%- else -%}
        {{ appended }}
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__snapshot_merge_sql(target, source, insert_cols) -%}
    {{ history_merge_sql(target, insert_cols, dbt.duckdb__snapshot_merge_sql(target, source, insert_cols)) }}
{%- endmacro %}

{% macro postgres__snapshot_merge_sql(target, source, insert_cols) -%}
    {{ history_merge_sql(target, insert_cols, dbt.postgres__snapshot_merge_sql(target, source, insert_cols)) }}
{%- endmacro %}

{# Set every key's value at instant t = as_of to the snapshot's source, keeping every other
   instant's value. Per key, the spells around t are cut into pieces: the part before t (or
   the spell that ended at t), the new value at t until the next instant t_next, and the value
   at t_next (the rest of the spell that covered t, or the spell starting at t_next). Adjacent
   pieces with equal check columns are merged back into one spell, which keeps the columns of
   its first piece, as a replay would (a spell's other columns are those of its first build).
   One exception: a spell split by a backfill resumes at t_next with the columns it had, since
   the snapshot holds no other record of that build. #}
{% macro history_set_instant_sql(target, insert_cols) -%}
    {%- set columns = config.get('snapshot_table_column_names') or get_snapshot_table_column_names() -%}
    {%- set unique_key = config.get('unique_key') -%}
    {%- set keys = unique_key if unique_key is not string else [unique_key] -%}
    {%- set check_cols = config.get('check_cols') -%}
    {%- set meta = [columns.dbt_scd_id, columns.dbt_updated_at, columns.dbt_valid_from, columns.dbt_valid_to] -%}
    {%- set values = [] -%}
    {%- for column in insert_cols -%}
        {%- if column | replace('"', '') | lower not in meta -%}
            {%- do values.append(column) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set at = as_of() -%}
    {%- set pieces = api.Relation.create(identifier=target.identifier ~ '__history_pieces', type='table') -%}
    {%- set touched -%}
        ({{ columns.dbt_valid_from }} <= {{ at }}
            and ({{ columns.dbt_valid_to }} is null or {{ columns.dbt_valid_to }} > {{ at }}))
        or {{ columns.dbt_valid_to }} = {{ at }}
        or {{ columns.dbt_valid_from }} = (
            select min(instant) from ({{ history_instants_sql(target) }}) as instants
            where instant > {{ at }}
        )
    {%- endset -%}
    drop table if exists {{ pieces }};
    create temporary table {{ pieces }} as
    with

    bounds as (
        select min(instant) as next_instant
        from ({{ history_instants_sql(target) }}) as instants
        where instant > {{ at }}
    ),

    touched as (
        select
            held.*,
            case
                when held.{{ columns.dbt_valid_to }} = {{ at }} then 'ended_at'
                when held.{{ columns.dbt_valid_from }} <= {{ at }} then 'covering'
                else 'next'
            end as role
        from {{ target }} as held
        where {{ touched }}
    ),

    source_rows as (
        select * from ({{ model['compiled_code'] }}) as source_query
    ),

    pieces as (
        -- before t: what the spell covering t held until t, or the spell that ended at t
        select {{ values | join(', ') }}, {{ columns.dbt_valid_from }} as piece_from, {{ at }} as piece_to
        from touched
        where role = 'covering' and {{ columns.dbt_valid_from }} < {{ at }}
        union all
        select {{ values | join(', ') }}, {{ columns.dbt_valid_from }}, {{ columns.dbt_valid_to }}
        from touched
        where role = 'ended_at'
        union all
        -- at t: the source
        select {{ values | join(', ') }}, {{ at }}, bounds.next_instant
        from source_rows
        cross join bounds
        union all
        -- from the next instant: the rest of the spell covering t, or the spell starting there
        select {{ values | join(', ') }}, bounds.next_instant, {{ columns.dbt_valid_to }}
        from touched
        cross join bounds
        where
            role = 'covering'
            and bounds.next_instant is not null
            and ({{ columns.dbt_valid_to }} is null or {{ columns.dbt_valid_to }} > bounds.next_instant)
        union all
        select {{ values | join(', ') }}, {{ columns.dbt_valid_from }}, {{ columns.dbt_valid_to }}
        from touched
        where role = 'next'
    ),

    flagged as (
        select
            pieces.*,
            case
                when
                    lag(piece_to) over by_key = piece_from
                    {%- for column in check_cols %}
                        and lag({{ column }}) over by_key is not distinct from {{ column }}
                    {%- endfor %}
                    then 0
                else 1
            end as starts_spell
        from pieces
        window by_key as (partition by {{ keys | join(', ') }} order by piece_from)
    ),

    numbered as (
        select
            flagged.*,
            sum(starts_spell) over (
                partition by {{ keys | join(', ') }} order by piece_from rows unbounded preceding
            ) as spell_number
        from flagged
    ),

    spells as (
        select
            numbered.*,
            last_value(piece_to) over (
                partition by {{ keys | join(', ') }}, spell_number order by piece_from
                rows between unbounded preceding and unbounded following
            ) as spell_to
        from numbered
    )

    select
        {{ values | join(', ') }},
        {{ snapshot_hash_arguments(keys + ['piece_from']) }} as {{ columns.dbt_scd_id }},
        piece_from as {{ columns.dbt_updated_at }},
        piece_from as {{ columns.dbt_valid_from }},
        spell_to as {{ columns.dbt_valid_to }}
    from spells
    where starts_spell = 1;

    delete from {{ target }} where {{ touched }};

    insert into {{ target }} ({{ insert_cols | join(', ') }})
    select {{ insert_cols | join(', ') }} from {{ pieces }};

    drop table if exists {{ pieces }}
{%- endmacro %}
