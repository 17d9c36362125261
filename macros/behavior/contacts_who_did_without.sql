{# Contacts who did any of `signals` within the last `within_days` days and none of the
   `follow_ups` after their last time: started a form without submitting it, viewed the demo
   page without requesting a demo, filled a cart without ordering. Returns contact_key,
   times, first_at and last_at of the first behaviour. #}
{% macro contacts_who_did_without(signal_type, signals, follow_up_type, follow_ups, within_days=none) -%}
    select did.*
    from ({{ contacts_who_did(signal_type, signals, within_days=within_days) }}) as did
    left join ({{ contacts_who_did(follow_up_type, follow_ups) }}) as followed
        on did.contact_key = followed.contact_key
    where followed.last_at is null or followed.last_at < did.last_at
{%- endmacro %}
