{# Who was in segment `segment_id` at instant `at` (a SQL timestamp literal or expression):
   a query over segment_membership_history, answering from history instead of a rebuild.
   Use it in an analysis or from the command line:
     dbt show --inline "{{ segment_members_as_of('cart_abandoner', \"timestamp '2026-06-01'\") }}" #}
{% macro segment_members_as_of(segment_id, at) -%}
    select
        contact_key,
        segment_id,
        reason_at_entry,
        valid_from,
        valid_to
    from {{ ref('segment_membership_history') }}
    where
        segment_id = '{{ segment_id }}'
        and valid_from <= {{ at }}
        and (valid_to is null or valid_to > {{ at }})
{%- endmacro %}
