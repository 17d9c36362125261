{{ config(enabled=adapter_enabled('klaviyo', 'identifies')) }}

with

people as (
    {{ vendor_table(source('klaviyo', 'person'), [
        'id', 'email', 'first_name', 'last_name', 'title', 'organization', 'created', 'updated',
        '_fivetran_deleted',
    ]) }}
)

-- one identify per profile: the user id of the person's tracked events is their email
select
    {{ dbt.concat(["'klaviyo:'", 'id']) }} as id,
    cast(null as {{ dbt.type_string() }}) as anonymous_id,
    {{ dbt.concat(["'klaviyo:'", 'id']) }} as user_id,
    email,
    -- known since the profile was made
    coalesce(created, updated) as timestamp,
    cast(null as {{ dbt.type_string() }}) as received_at,
    {{ json_object_text([
        ('first_name', 'first_name'),
        ('last_name', 'last_name'),
        ('title', 'title'),
        ('organization', 'organization'),
    ]) }} as traits,
    _source_file,
    {{ vendor_row_number('id') }} as _source_row_number,
    _loaded_at
from people
-- a profile deleted in Klaviyo identifies no one
where not coalesce({{ parse_boolean('_fivetran_deleted') }}, false)
