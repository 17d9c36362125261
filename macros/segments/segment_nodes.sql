{# Every segment model of the project (a model with `meta.segment` in its YAML), lowest
   priority number first. The graph is only known at execution; at parse time this is empty,
   and segment_membership names its parents in depends_on hints instead (kept in sync by
   `audience segments sync`, checked by `make lint`). A unit test's graph holds no nodes:
   there, no segment is known either. #}
{% macro segment_nodes() -%}
    {%- set found = [] -%}
    {%- if execute and graph.nodes is defined -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model' and node.config.meta.get('segment') -%}
                {%- do found.append(node) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(found | sort(attribute='config.meta.segment.priority')) }}
{%- endmacro %}
