{#- The trained lookalike models' weights (`audience train`), one row per customer kind (b2b,
    b2c) and feature: none for a kind whose model was never trained, and then the distance to
    that kind's customer centroid decides (lookalike_best_customers). -#}
with

weights as (
    select * from {{ source('scoring', 'score_weights') }}
),

final as (
    select
        -- ids
        cast(model_id as {{ dbt.type_string() }}) as model_id,
        cast({{ dbt.replace('score', "'lookalike_'", "''") }} as {{ dbt.type_string() }}) as customer_kind,
        cast(feature_type as {{ dbt.type_string() }}) as feature_type,

        -- the coefficient
        cast(weight as {{ type_double() }}) as weight,
        cast(holdout_auc as {{ type_double() }}) as holdout_auc,

        -- timestamps
        cast(trained_as_of as {{ dbt.type_timestamp() }}) as trained_as_of
    from weights
    where score in ('lookalike_b2b', 'lookalike_b2c') and weight is not null
)

select * from final
