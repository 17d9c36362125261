{# Every row satisfies a boolean SQL expression (an invariant of the model). #}
{% test expression_is_true(model, expression, column_name=none) %}
select *
from {{ model }}
where not ({{ expression }})
{% endtest %}
