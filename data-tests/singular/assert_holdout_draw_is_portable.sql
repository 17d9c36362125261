-- The holdout draw (macros/segments/holdout.sql) is the same number on every engine and in
-- Python (audience.treatment.holdout_draw): md5 of salt, segment and contact, its first 8
-- hex digits as an unsigned number, modulo 10000, over 10000. Known values, worked out
-- once with Python's hashlib; one starts with a hex digit over 7 (the sign bit of 32 bits).
with

cases as (
    select
        'cart_abandoner' as segment_id,
        'contact-1' as contact_key,
        0.3675 as expected,
        {{ holdout_draw("'cart_abandoner'", "'contact-1'", salt='audience-holdout-v1') }} as drawn
    union all
    select
        'fit_and_intent' as segment_id,
        'k42' as contact_key,
        0.0453 as expected,
        {{ holdout_draw("'fit_and_intent'", "'k42'", salt='fixed-salt') }} as drawn
    union all
    select
        'nurture' as segment_id,
        'ffff' as contact_key,
        0.5177 as expected,
        {{ holdout_draw("'nurture'", "'ffff'", salt='fixed-salt') }} as drawn
)

select *
from cases
where drawn is null or abs(drawn - expected) > 0.00001
