{# Spark's incremental materialization, for the replace_window strategy of this project
   (dbt-spark's own accepts only its built-in strategies). A full build creates the table;
   an incremental one writes the model's rows for the window to a side table and runs the
   statements of get_incremental_replace_window_sql (spark__ version) in order. Any other
   strategy goes to dbt-spark's materialization unchanged. #}
{% materialization incremental, adapter='spark', supported_languages=['sql', 'python'] -%}
    {%- set strategy = config.get('incremental_strategy') or 'append' -%}
    {%- if strategy != 'replace_window' -%}
        {{ return(dbt.materialization_incremental_spark()) }}
    {%- endif -%}

    {%- set target_relation = this -%}
    {%- set existing_relation = load_relation(this) -%}
    {%- set new_rows = this.incorporate(path={'identifier': this.identifier ~ '__dbt_tmp'}) -%}
    {{ run_hooks(pre_hooks) }}

    {%- if existing_relation is none or existing_relation.is_view or should_full_refresh() -%}
        {%- if existing_relation is not none -%}
            {%- do adapter.drop_relation(existing_relation) -%}
        {%- endif -%}
        {%- call statement('main') -%}
            {{ create_table_as(False, target_relation, compiled_code) }}
        {%- endcall -%}
    {%- else -%}
        {%- call statement('drop_new_rows') -%} drop table if exists {{ new_rows }} {%- endcall -%}
        {%- call statement('create_new_rows') -%}
            {{ create_table_as(False, new_rows, compiled_code) }}
        {%- endcall -%}
        {%- set statements = get_incremental_replace_window_sql({
            'target_relation': target_relation,
            'temp_relation': new_rows,
            'dest_columns': adapter.get_columns_in_relation(existing_relation),
        }) -%}
        {%- for sql in statements -%}
            {%- call statement('main' if loop.last else 'replace_window_' ~ loop.index) -%}
                {{ sql }}
            {%- endcall -%}
        {%- endfor -%}
        {%- call statement('drop_new_rows_after') -%} drop table if exists {{ new_rows }} {%- endcall -%}
    {%- endif -%}

    {% do persist_docs(target_relation, model) %}
    {{ run_hooks(post_hooks) }}
    {{ return({'relations': [target_relation]}) }}
{%- endmaterialization %}
