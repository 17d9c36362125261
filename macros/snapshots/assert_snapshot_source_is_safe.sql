{# Run before a snapshot with hard_deletes: invalidate. If the source came out empty, or lost
   more than var snapshots__max_drop_share of the rows the snapshot held at the build before
   this one (a failed load, a broken upstream), the snapshot would end-date every missing row
   as if it had left.
   Stop with a clear error instead; a genuine mass exit is let through by raising the var. #}
{% macro assert_snapshot_source_is_safe(source_relation) -%}
    {%- if execute -%}
        {%- set existing = adapter.get_relation(this.database, this.schema, this.identifier) -%}
        {%- if existing is not none -%}
            {%- set counts = run_query(
                "select (select count(*) from " ~ source_relation ~ ") as source_rows, "
                ~ "(select count(*) from " ~ existing ~ " where " ~ history_state_before_as_of()
                ~ ") as current_rows"
            ) -%}
            {%- set source_rows = counts.columns[0].values()[0] | int -%}
            {%- set current_rows = counts.columns[1].values()[0] | int -%}
            {%- set max_drop = var('snapshots__max_drop_share') -%}
            {%- if current_rows > 0 and source_rows < current_rows * (1 - max_drop) -%}
                {{ exceptions.raise_compiler_error(
                    "Refusing to snapshot " ~ this ~ ": its source " ~ source_relation ~ " has "
                    ~ source_rows ~ " rows against " ~ current_rows ~ " current ones (more than "
                    ~ (max_drop * 100) | round | int ~ " % would be end-dated at once). Check the "
                    ~ "load and the upstream models; if the drop is real, rerun with "
                    ~ "--vars '{snapshots__max_drop_share: 1}'."
                ) }}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    select 1 as snapshot_source_checked
{%- endmacro %}
