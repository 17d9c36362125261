{# When a row reached the warehouse, as far as any build may know: its received_at, else the
   moment it happened. Never the load time: that says when a file was copied, and a build as
   of a past instant must count a row the same whenever its file was loaded. The as_of filter
   (known_by_as_of), the future_timestamp check, the choice among duplicates and the
   report of rows left out after as_of (report_arrivals) all read this. #}
{% macro arrived_at(received_at, occurred_at) -%}
    coalesce({{ received_at }}, {{ occurred_at }})
{%- endmacro %}
