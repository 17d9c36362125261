{# The trained lead model's log-odds for a contact of int_contact_scores: intercept, the fit
   score and the account's third-party intent (both 0-1), and the signals' lead points (each
   signal's weight times ln(1 + its decayed occurrences), int_contact_signal_points).
   src/audience/train.py computes the same features. #}
{% macro learned_lead_logit() -%}
    (learned.intercept + learned.fit_weight * scored.fit_score / 100.0
    + learned.third_party_weight * scored.third_party_intent_score / 100.0 + scored.lead_points)
{%- endmacro %}
