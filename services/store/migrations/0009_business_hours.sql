-- A business unit's opening hours (BusinessUnit spec.businessHours): outside them the unit
-- takes offline messages only. NULL means always open.
ALTER TABLE business_units ADD COLUMN business_hours jsonb;
