{# Spark's snapshot materialization. dbt-spark's own needs a table format with MERGE (Delta,
   Iceberg, Hudi); on a cluster that has one, set AUDIENCE_SPARK_FILE_FORMAT and this runs
   the same MERGE (snapshot_merge_sql). On plain parquet, as in the in-process session, the
   merge is a rewrite: the held rows with the new end dates, plus the new rows, go to a side
   table that then overwrites the snapshot (statements of spark_snapshot_rewrite). #}
{% materialization snapshot, adapter='spark' %}
    {%- set target_table = model.get('alias', model.get('name')) -%}
    {%- set strategy_name = config.get('strategy') -%}
    {%- set file_format = config.get('file_format') or 'parquet' -%}
    {%- set grant_config = config.get('grants') -%}

    {%- set target_relation_exists, target_relation = get_or_create_relation(
        database=none, schema=model.schema, identifier=target_table, type='table') -%}

    {%- if not adapter.check_schema_exists(model.database, model.schema) -%}
        {%- do create_schema(model.schema) -%}
    {%- endif -%}
    {%- if not target_relation.is_table -%}
        {%- do exceptions.relation_wrong_type(target_relation, 'table') -%}
    {%- endif -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- set strategy_macro = strategy_dispatch(strategy_name) -%}
    {%- set strategy = strategy_macro(
        model, "snapshotted_data", "source_data", model['config'], target_relation_exists) -%}

    {%- if not target_relation_exists -%}
        {%- set statements = [create_table_as(
            False, target_relation, build_snapshot_table(strategy, model['compiled_code']))] -%}
    {%- else -%}
        {%- set columns = config.get("snapshot_table_column_names")
            or get_snapshot_table_column_names() -%}
        {{ adapter.valid_snapshot_target(target_relation, columns) }}
        {%- set staging_table = spark_build_snapshot_staging_table(strategy, sql, target_relation) -%}
        {#- the staging's helper columns (dbt_change_type, dbt_unique_key, dbt_unique_key_N of a
            composite key) are not the snapshot's -#}
        {%- set missing_columns = [] -%}
        {%- for column in adapter.get_missing_columns(staging_table, target_relation) -%}
            {%- if not (column.name | lower).startswith(('dbt_change_type', 'dbt_unique_key')) -%}
                {%- do missing_columns.append(column) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do create_columns(target_relation, missing_columns) -%}
        {%- if file_format in ['delta', 'iceberg', 'hudi'] -%}
            {%- set quoted_columns = [] -%}
            {%- for column in adapter.get_columns_in_relation(staging_table) -%}
                {%- if not (column.name | lower).startswith(('dbt_change_type', 'dbt_unique_key')) -%}
                    {%- do quoted_columns.append(adapter.quote(column.name)) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- set statements = [snapshot_merge_sql(
                target=target_relation, source=staging_table, insert_cols=quoted_columns)] -%}
        {%- else -%}
            {%- set statements = spark_snapshot_rewrite(target_relation, staging_table, columns) -%}
        {%- endif -%}
    {%- endif -%}

    {%- for sql_statement in statements -%}
        {%- call statement('main' if loop.last else 'snapshot_step_' ~ loop.index) -%}
            {{ sql_statement }}
        {%- endcall -%}
    {%- endfor -%}

    {%- set should_revoke = should_revoke(target_relation_exists, full_refresh_mode) -%}
    {%- do apply_grants(target_relation, grant_config, should_revoke) -%}
    {%- do persist_docs(target_relation, model) -%}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {%- if staging_table is defined -%}
        {%- do post_snapshot(staging_table) -%}
    {%- endif -%}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{# The snapshot's merge as statements for a table without MERGE: rows the staging marks as
   updated or deleted get its end date, inserted rows are added, and the result overwrites
   the snapshot through a side table (Spark cannot overwrite a table it reads). #}
{% macro spark_snapshot_rewrite(target, staging, columns) -%}
    {%- set merged = target.incorporate(path={'identifier': target.identifier ~ '__dbt_merged'}) -%}
    {%- set target_columns = adapter.get_columns_in_relation(target) | map(attribute='name') | list -%}
    {%- set held = [] -%}
    {%- set inserted = [] -%}
    {%- for column in target_columns -%}
        {%- if column == columns.dbt_valid_to -%}
            {%- do held.append('case when ended.' ~ columns.dbt_scd_id ~ ' is not null then ended.'
                ~ columns.dbt_valid_to ~ ' else held.' ~ column ~ ' end as ' ~ column) -%}
        {%- else -%}
            {%- do held.append('held.' ~ column) -%}
        {%- endif -%}
        {%- do inserted.append(column) -%}
    {%- endfor -%}
    {%- set current = 'held.' ~ columns.dbt_valid_to ~ ' is null' ~ (
        ' or held.' ~ columns.dbt_valid_to ~ ' = ' ~ config.get('dbt_valid_to_current')
        if config.get('dbt_valid_to_current') else '') -%}
    {%- set rewrite -%}
        create table {{ merged }} using parquet as
        select {{ held | join(', ') }}
        from {{ target }} as held
        left join (
            select {{ columns.dbt_scd_id }}, {{ columns.dbt_valid_to }} from {{ staging }}
            where dbt_change_type in ('update', 'delete')
        ) as ended
            on held.{{ columns.dbt_scd_id }} = ended.{{ columns.dbt_scd_id }}
            and ({{ current }})
        union all
        select {{ inserted | join(', ') }} from {{ staging }}
        where dbt_change_type = 'insert'
    {%- endset -%}
    {{ return([
        'drop table if exists ' ~ merged,
        rewrite,
        'insert overwrite table ' ~ target ~ ' select * from ' ~ merged,
        'drop table if exists ' ~ merged,
    ]) }}
{%- endmacro %}
