{# dbt.datediff counts the boundaries crossed between two instants on DuckDB, PostgreSQL and
   dbt's other adapters; dbt-spark's divides the elapsed seconds and rounds up, so from 10:10
   to the next day's 09:50 is 23 hours on DuckDB and 24 with dbt-spark's. This one counts
   boundaries on Spark too, for the parts this project uses. #}
{% macro spark__datediff(first_date, second_date, datepart) -%}
    {%- set seconds = {'hour': 3600, 'minute': 60, 'second': 1} -%}
    {%- if datepart == 'day' -%}
        datediff(cast({{ second_date }} as date), cast({{ first_date }} as date))
    {%- elif datepart in seconds -%}
        cast((
            unix_timestamp(date_trunc('{{ datepart }}', {{ second_date }}))
            - unix_timestamp(date_trunc('{{ datepart }}', {{ first_date }}))
        ) / {{ seconds[datepart] }} as bigint)
    {%- else -%}
        {{ exceptions.raise_compiler_error("datediff by " ~ datepart ~ " on Spark: this project "
            ~ "counts days, hours, minutes and seconds (macros/cross_db/datediff.sql)") }}
    {%- endif -%}
{%- endmacro %}
