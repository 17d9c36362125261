{# One setting of a segment: var segments__setting_overrides (a map of segment id to
   settings, e.g. to tune an expiry per environment without editing YAML), else the
   `meta.segment` block of its YAML, else the framework default. #}
{% macro segment_setting(node, key) -%}
    {%- set defaults = {
        'cadence': 'daily',
        'audience': 'everyone',
        'channel': 'any',
        'email_group': none,
        'expiry_days': none,
        'min_dwell_days': none,
        'holdout': none,
        'description': node.description,
    } -%}
    {%- set overrides = var('segments__setting_overrides', {}).get(node.name, {}) -%}
    {%- if key in overrides -%}
        {{ return(overrides[key]) }}
    {%- endif -%}
    {{ return(node.config.meta.segment.get(key, defaults.get(key))) }}
{%- endmacro %}

{# A segment setting as a SQL literal: a number as is, text quoted, a missing one as null. #}
{% macro segment_setting_sql(node, key) -%}
    {%- set value = segment_setting(node, key) -%}
    {%- if value is none -%}
        null
    {%- elif value is number -%}
        {{ value }}
    {%- else -%}
        '{{ value | replace("'", "''") }}'
    {%- endif -%}
{%- endmacro %}
