-- A worker's task listing finds her tasks from her skills (issue 23 §2). Every task she may
-- claim has all its skills among hers, so its lead skill (the first in order; '' for a task
-- that needs none) is one of hers: the listing reads, for each of her skills and for '', the
-- open tasks with that lead skill newest first, instead of walking every open task and
-- probing its skills (which discarded ~97 % of tasks for a worker with one skill of twenty).
-- Kept in step with task_skills by the API's write_skills. Which skill leads does not matter
-- for the argument above, only that it is one of the task's own.
-- Keep in step with migrations/sqlite/0025_task_lead_skill.sql.

ALTER TABLE tasks ADD COLUMN lead_skill TEXT NOT NULL DEFAULT '';

UPDATE tasks SET lead_skill = COALESCE(
    (SELECT MIN(s.skill) FROM task_skills s WHERE s.task_id = tasks.id), '');

CREATE INDEX tasks_open_by_lead_skill ON tasks (lead_skill, id) WHERE status = 'open';
