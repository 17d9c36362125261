{# The learned score weights (schema scoring): the one definition of their table. Written by
   `audience train` (src/audience/train.py renders this file with plain Jinja and the default
   types), read by the build as a source (models/staging/scoring/_scoring__sources.yml); the
   build creates it empty when missing (on-run-start, create_score_weights_table), and an
   empty table means the hand-set weights of the seeds score every contact.
   No dbt functions here: the types come in as arguments.

   score_weights: one row per model and feature, with the model's held-out AUC: the trained lead
   model (its intercept, fit, third-party intent, and one row per scoring signal) and the
   lookalike model of each customer kind (intercept, fit, engagement, intent, decision views) #}
{% macro score_weights_ddl(string_type='varchar', float_type='double', timestamp_type='timestamp') -%}
create schema if not exists scoring;
create table if not exists scoring.score_weights (
    model_id {{ string_type }},
    score {{ string_type }},
    feature_type {{ string_type }},
    signal_type {{ string_type }},
    signal {{ string_type }},
    weight {{ float_type }},
    holdout_auc {{ float_type }},
    trained_as_of {{ timestamp_type }},
    trained_at {{ timestamp_type }}
)
{%- endmacro %}

{# on-run-start: the score weights table, one statement at a time (Spark takes one at a time). #}
{% macro create_score_weights_table() -%}
    {%- if execute -%}
        {%- set ddl = score_weights_ddl(dbt.type_string(), type_double(), dbt.type_timestamp()) -%}
        {%- for statement in ddl.split(';') if statement.strip() -%}
            {%- do run_query(statement) -%}
        {%- endfor -%}
    {%- endif -%}
    select 1 as score_weights_table_created
{%- endmacro %}
