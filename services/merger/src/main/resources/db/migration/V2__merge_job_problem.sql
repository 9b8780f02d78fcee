-- A job that failed because of its inputs (NaN or infinite weights, models that cannot be merged) records the problem
-- type's reason, so its view carries the same 422 problem a submission rejected for that reason gets.
ALTER TABLE merge_job ADD COLUMN problem VARCHAR(64);
