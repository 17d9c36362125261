{{ landed_rows('crm_contacts') }}
