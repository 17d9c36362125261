{# Holdout groups. A segment may keep a share of its members out of every destination, as a
   control group to measure the segment's campaigns against (report_segment_lift): its
   `holdout` setting (meta.segment.holdout in the segment model's YAML, e.g. 0.1, or
   var segments__setting_overrides; none: no control group).

   Which members are controls is decided by a stable, salted hash of segment and contact,
   the same on every engine and in every build: the first 8 hex digits of
   md5(salt || '|' || segment_id || '|' || contact_key) as a number, modulo 10000, over 10000,
   below the share. The salt is var segments__holdout_salt: change it to draw new groups. #}

{# A segment's control share (a number from 0 to 1), or none. #}
{% macro segment_holdout(node) -%}
    {%- set share = segment_setting(node, 'holdout') -%}
    {%- if share is none -%}
        {%- set share = node.config.meta.get('holdout') -%}
    {%- endif -%}
    {%- if share is not none and (share is not number or share < 0 or share > 1) -%}
        {{ exceptions.raise_compiler_error(
            "segment " ~ node.name ~ ": holdout must be a share from 0 to 1, not " ~ share) }}
    {%- endif -%}
    {{ return(share) }}
{%- endmacro %}

{# The contact's draw in [0, 1) for the segment (SQL expressions): the hash described
   above, with the salt of var segments__holdout_salt unless one is given. #}
{% macro holdout_draw(segment_id, contact_key, salt=none) -%}
    {%- set salt = var('segments__holdout_salt') if salt is none else salt -%}
    mod({{ hex_to_int(
        "substr(md5(" ~ dbt.concat(["'" ~ salt ~ "|'", segment_id, "'|'", contact_key]) ~ "), 1, 8)"
    ) }}, 10000) / 10000.0
{%- endmacro %}

{# Whether the contact is in the segment's control group: false for a segment without one. #}
{% macro holdout_is_control(segment_id, contact_key) -%}
    {%- set shares = {} -%}
    {%- for node in segment_nodes() -%}
        {%- set share = segment_holdout(node) -%}
        {%- if share -%}
            {%- do shares.update({node.name: share}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if shares -%}
        coalesce(case {{ segment_id }}
            {%- for name, share in shares.items() %}
                when '{{ name }}' then {{ holdout_draw(segment_id, contact_key) }} < {{ share }}
            {%- endfor %}
        end, false)
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}
