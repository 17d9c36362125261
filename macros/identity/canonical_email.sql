{# The identity form of a normalized email, so that the variants of one mailbox resolve to
   one person: the plus tag is dropped (jo+news@x.com -> jo@x.com), googlemail.com is
   gmail.com, and gmail ignores dots in the local part. Never used to send email. #}
{% macro canonical_email(normalized_email) -%}
    {%- set local_part = dbt.split_part(dbt.split_part(normalized_email, "'@'", 1), "'+'", 1) -%}
    {%- set raw_domain = dbt.split_part(normalized_email, "'@'", 2) -%}
    {%- set domain = "case when " ~ raw_domain ~ " = 'googlemail.com' then 'gmail.com' else " ~ raw_domain ~ " end" -%}
    case
        when {{ normalized_email }} is not null then
            {{ dbt.concat([
                "case when " ~ domain ~ " = 'gmail.com' then replace(" ~ local_part ~ ", '.', '') else " ~ local_part ~ " end",
                "'@'",
                domain,
            ]) }}
    end
{%- endmacro %}
