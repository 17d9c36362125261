{# The one spelling of an event name that seeds/event_name_map.csv is keyed on and an
   unmapped event keeps: lower-cased, every run of spaces, underscores, hyphens, dots,
   colons and slashes made one underscore, none at either end. `Order Shipped`,
   `order_shipped`, ` ORDER-SHIPPED ` and `order.shipped` are all `order_shipped`; other
   characters are kept as they are (`opened?` stays `opened?`), and camelCase is not split
   (`orderShipped` is `ordershipped`). Null when nothing is left (an empty name). #}
{% macro normalize_event_name(expr) -%}
    nullif(
        {{ regexp_replace_all(regexp_replace_all('lower(trim(' ~ expr ~ '))', '[ _./:-]+', '_'), '^_+|_+$', '') }},
        ''
    )
{%- endmacro %}
