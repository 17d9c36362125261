{{ landed_rows('crm_deals') }}
