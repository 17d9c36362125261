{# The CRM records of `relation` an adapter maps: every record that is not deleted, and a
   deleted one only when it was merged into a record that is kept (directly, or through one
   more deleted merged record), so the merge becomes an identity link (rule crm_merge) and the
   old id and email join the survivor. Any other deleted record is left out: it is no live
   contact and nothing in the warehouse needs it. `relation` has the columns contact_id,
   merged_into_contact_id and is_deleted (a boolean). #}
{% macro crm_records_kept(relation) -%}
    select * from {{ relation }}
    where
        not is_deleted
        or merged_into_contact_id in (
            select live.contact_id from {{ relation }} as live
            where not live.is_deleted
            union all
            select merged.contact_id from {{ relation }} as merged
            where
                merged.is_deleted
                and merged.merged_into_contact_id in (
                    select survivor.contact_id from {{ relation }} as survivor
                    where not survivor.is_deleted
                )
        )
{%- endmacro %}
