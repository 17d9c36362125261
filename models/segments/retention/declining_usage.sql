with

declining as (
    select * from {{ ref('int_account_features') }}
    where is_customer and key_actions_prior_30d > 0 and key_actions_30d < 0.5 * key_actions_prior_30d
)

select
    profiles.contact_key,
    {{ segment_reason(
        "'account key actions fell from '",
        'declining.key_actions_prior_30d',
        "' to '",
        'declining.key_actions_30d',
        "' (30 days)'",
    ) }} as reason,
    {{ as_of() }} as qualified_at
from declining
inner join {{ ref('int_contact_profiles') }} as profiles on declining.company_id = profiles.company_id
