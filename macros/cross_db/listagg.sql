{# dbt-spark's listagg drops its order_by_clause (with a warning), and a list whose order
   changes from build to build changes a sync's payload hash. This one sorts the collected
   values by the clause's expressions: `order by a, b desc` sorts (a, -b) pairs by key. #}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if order_by_clause -%}
        {%- set keys = [] -%}
        {%- set descending = [] -%}
        {%- set clause = order_by_clause | trim -%}
        {%- set clause = clause[8:] if (clause | lower).startswith('order by') else clause -%}
        {%- for part in clause.split(',') -%}
            {%- set words = part | trim | lower -%}
            {%- do keys.append((part | trim)[:-5] if words.endswith(' desc') else
                ((part | trim)[:-4] if words.endswith(' asc') else part | trim)) -%}
            {%- do descending.append(words.endswith(' desc')) -%}
        {%- endfor -%}
        {%- if descending | select | list | length not in [0, keys | length] -%}
            {{ exceptions.raise_compiler_error("listagg on Spark sorts all keys one way: "
                ~ order_by_clause) }}
        {%- endif -%}
        {%- set pairs -%}
            array_sort(collect_list(struct(
                {%- for key in keys %}{{ key }} as k{{ loop.index }}, {% endfor -%}
                {{ measure }} as v)))
        {%- endset -%}
        {%- set sorted = 'reverse(' ~ pairs ~ ')' if descending[0] else pairs -%}
        {%- set collected = 'transform(' ~ sorted ~ ', x -> x.v)' -%}
    {%- else -%}
        {%- set collected = 'collect_list(' ~ measure ~ ')' -%}
    {%- endif -%}
    {%- if limit_num -%}
        {%- set collected = 'slice(' ~ collected ~ ', 1, ' ~ limit_num ~ ')' -%}
    {%- endif -%}
    array_join({{ collected }}, {{ delimiter_text }})
{%- endmacro %}
