{# Each contact's email deliveries ranked newest first (recency_rank 1 = the latest): the
   base of the email streaks (int_contact_features) and of email fatigue
   (int_contact_email_fatigue). #}
{% macro ranked_email_deliveries() -%}
    select
        contact_key,
        is_opened,
        delivered_at,
        row_number() over (
            partition by contact_key order by delivered_at desc, message_id desc
        ) as recency_rank
    from {{ ref('int_email_deliveries') }}
{%- endmacro %}

{# Of ranked_email_deliveries' rows grouped by contact: how many of the newest were ignored
   in a row, back to the first opened one (all of them when none was opened). #}
{% macro ignored_in_a_row() -%}
    coalesce(min(case when is_opened then recency_rank end) - 1, count(*))
{%- endmacro %}
