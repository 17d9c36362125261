{# The web domain of a website as a CRM writes it ('https://www.Acme.com/about?x=1',
   'www.acme.com', 'acme.com:8080'): lower-cased, without scheme, user, `www.` (or www2.),
   port, path, query, fragment or trailing dot; null when nothing is left. It matches work
   email domains (acme.com), as a contract `domain` does. Regex patterns anchored and without
   backslashes, so DuckDB, PostgreSQL and Spark read them alike (macros/cross_db/matches_regex.sql). #}
{% macro domain_from_url(expr) -%}
    {%- set text = 'lower(trim(' ~ expr ~ '))' -%}
    {%- set no_scheme = "regexp_replace(" ~ text ~ ", '^[a-z][a-z0-9+.-]*://', '')" -%}
    {%- set no_user = "regexp_replace(" ~ no_scheme ~ ", '^[^@/?#]*@', '')" -%}
    {%- set host = "regexp_replace(" ~ no_user ~ ", '[/?#:].*$', '')" -%}
    {%- set no_www = "regexp_replace(" ~ host ~ ", '^www[0-9]*[.]', '')" -%}
    nullif(regexp_replace({{ no_www }}, '[.]+$', ''), '')
{%- endmacro %}
