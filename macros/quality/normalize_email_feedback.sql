{# An ESP's bounce type as one of hard, soft or block, or unknown when it gives one this does
   not recognise (null when it gives none). Compared normalized (normalize_event_name):
   hard: hard, hard_bounce, SendGrid's `bounce`, SES's `Permanent`; soft: soft, soft_bounce,
   SES's `Transient`, temporary; block: block, blocked (SendGrid). #}
{% macro normalize_bounce_type(expr) -%}
    {%- set name = normalize_event_name(expr) -%}
    case
        when {{ name }} in ('hard', 'hard_bounce', 'hardbounce', 'bounce', 'permanent') then 'hard'
        when {{ name }} in ('soft', 'soft_bounce', 'softbounce', 'transient', 'temporary') then 'soft'
        when {{ name }} in ('block', 'blocked', 'block_bounce') then 'block'
        when {{ name }} is not null then 'unknown'
    end
{%- endmacro %}

{# Why an ESP dropped a send, as far as suppression cares: the address is on its list of
   unsubscribed, bounced or spam-reporting addresses (SendGrid's reasons 'Unsubscribed
   Address', 'Bounced Address', 'Spam Reporting Address'; Mailgun's suppress-unsubscribe,
   suppress-bounce, suppress-complaint), else other (spam content, a bad header, a quota). #}
{% macro normalize_drop_reason(expr) -%}
    {%- set name = normalize_event_name(expr) -%}
    case
        when {{ name }} in ('unsubscribed_address', 'suppress_unsubscribe') then 'unsubscribed_address'
        when {{ name }} in ('bounced_address', 'suppress_bounce') then 'bounced_address'
        when {{ name }} in ('spam_reporting_address', 'suppress_complaint') then 'spam_reporting_address'
        else 'other'
    end
{%- endmacro %}
