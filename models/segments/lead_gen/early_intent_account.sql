with

accounts as (
    select * from {{ ref('int_account_features') }}
    where
        not is_customer
        and (third_party_intent_score >= {{ var('segments__third_party_intent_min') }} or people_visiting_30d >= 2)
)

select
    profiles.contact_key,
    {{ segment_reason(
        "'account researching: third-party intent '", one_decimal('accounts.third_party_intent_score'),
        "', '", 'accounts.people_visiting_30d', "' people visiting in 30 days'",
    ) }} as reason,
    {{ as_of() }} as qualified_at
from accounts
inner join {{ ref('int_contact_profiles') }} as profiles on accounts.company_id = profiles.company_id
