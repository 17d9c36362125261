{# The 8-byte floating-point type: dbt.type_float() is a 4-byte float on DuckDB, and Spark
   has no `double precision`. #}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'audience')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}
