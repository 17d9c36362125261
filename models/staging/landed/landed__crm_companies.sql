{{ landed_rows('crm_companies') }}
