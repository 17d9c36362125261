{#- The trained lead model's weights (`audience train`), one row per feature; none when no model
    was trained, and then the hand-set weights of the seeds score every contact. -#}
with

weights as (
    select * from {{ source('scoring', 'score_weights') }}
),

final as (
    select
        -- ids
        cast(model_id as {{ dbt.type_string() }}) as model_id,
        cast(feature_type as {{ dbt.type_string() }}) as feature_type,
        cast(signal_type as {{ dbt.type_string() }}) as signal_type,
        cast(signal as {{ dbt.type_string() }}) as signal,

        -- the coefficient
        cast(weight as {{ type_double() }}) as weight,
        cast(holdout_auc as {{ type_double() }}) as holdout_auc,

        -- timestamps
        cast(trained_as_of as {{ dbt.type_timestamp() }}) as trained_as_of
    from weights
    where score = 'lead' and weight is not null
)

select * from final
