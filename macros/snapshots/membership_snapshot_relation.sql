{# The membership snapshot as it stands before this build writes to it, or none on the first
   build. Read by relation, not ref: segment_membership is upstream of the snapshot, and
   reading the previous builds' history is what gives entered_at and anti-flapping. #}
{% macro membership_snapshot_relation() -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(load_relation(api.Relation.create(
        database=target.get('database'), schema='snapshots', identifier='segment_membership_snapshot'
    ))) }}
{%- endmacro %}
