{{ config(enabled=adapter_enabled('transactions', 'tracks')) }}
{#- Each purchase becomes a tracked `Order Completed` event of the customer (user_id), with
    revenue and quantity as properties. The columns are found by the names a purchase log
    usually has; var transactions__columns names them otherwise, e.g. for the header-less
    CDNOW sample {customer_id: column_2, ordered_at: column_3, quantity: column_4,
    amount: column_5}. A date written yyyymmdd is read as that day. -#}
{%- set named = var('transactions__columns', {}) -%}
{%- set candidates = {
    'order_id': ['order_id', 'transaction_id', 'id'],
    'customer_id': ['customer_id', 'customer', 'user_id', 'client_id'],
    'ordered_at': ['ordered_at', 'order_date', 'date', 'timestamp', 'created_at'],
    'amount': ['amount', 'revenue', 'total', 'value', 'dollar_value', 'price'],
    'quantity': ['quantity', 'qty', 'items', 'number_of_cds'],
} -%}
{%- set columns = [] -%}
{%- for role, names in candidates.items() -%}
    {%- do columns.append({'name': role, 'from': [named[role]] if role in named else names}) -%}
{%- endfor %}

with

orders as (
    {{ vendor_table(source('transactions', 'orders'), columns) }}
),

dated as (
    select
        *,
        case
            when {{ matches_regex('trim(ordered_at)', '^[0-9]{8}$') }}
                then
                    substring(trim(ordered_at), 1, 4) || '-' || substring(trim(ordered_at), 5, 2)
                    || '-' || substring(trim(ordered_at), 7, 2)
            else ordered_at
        end as ordered_at_text,
        -- a table not landed by `audience load` has no row numbers: number its rows
        {{ vendor_row_number(['customer_id', 'ordered_at', 'amount', 'quantity', 'order_id']) }}
            as row_in_table
    from orders
)

select
    -- a purchase log rarely has an order id: the line's file and row identify it
    coalesce(order_id, {{ dbt.hash(dbt.concat([
        "coalesce(_source_file, '')", "'#'",
        "cast(row_in_table as " ~ dbt.type_string() ~ ")", "'#'",
        "coalesce(customer_id, '')", "'#'", "coalesce(ordered_at, '')", "'#'",
        "coalesce(amount, '')", "'#'", "coalesce(quantity, '')",
    ])) }}) as id,
    cast(null as {{ dbt.type_string() }}) as anonymous_id,
    customer_id as user_id,
    -- event and timestamp are the contract's column names
    'Order Completed' as event,  -- noqa: RF04
    ordered_at_text as timestamp,  -- noqa: RF04
    cast(null as {{ dbt.type_string() }}) as received_at,
    {{ json_object_text([('revenue', 'amount'), ('quantity', 'quantity')]) }} as properties,
    cast(null as {{ dbt.type_string() }}) as session_id,
    _source_file,
    row_in_table as _source_row_number,
    _loaded_at
from dated
