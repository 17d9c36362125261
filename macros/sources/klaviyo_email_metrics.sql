{# Klaviyo's metrics of its own email (its event `type`): these are email events; every other
   metric (Placed Order, Viewed Product, Active on Site, SMS, ...) is a tracked event of the
   person. Lower case, as seeds/event_name_map.csv names them. #}
{% macro klaviyo_email_metrics() -%}
    {{ return([
        'received email', 'opened email', 'clicked email', 'bounced email', 'dropped email',
        'marked email as spam', 'unsubscribed', 'unsubscribed from email marketing',
        'unsubscribed from list',
    ]) }}
{%- endmacro %}

{# The metric names of a Klaviyo event relation's `type` column, in SQL, as a list literal. #}
{% macro klaviyo_email_metric_list() -%}
    ({% for metric in klaviyo_email_metrics() %}'{{ metric }}'{{ ', ' if not loop.last }}{% endfor %})
{%- endmacro %}
