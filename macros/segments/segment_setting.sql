{# One setting of a segment's `meta.segment` block, with the framework default when the YAML
   leaves it out. #}
{% macro segment_setting(node, key) -%}
    {%- set defaults = {
        'cadence': 'daily',
        'audience': 'everyone',
        'channel': 'any',
        'expiry_days': none,
        'description': node.description,
    } -%}
    {{ return(node.config.meta.segment.get(key, defaults.get(key))) }}
{%- endmacro %}
