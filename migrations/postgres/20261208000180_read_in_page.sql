-- Keep in step with migrations/sqlite.
-- A letter's access log also notes a document read inside the letter page
-- ('read'), not only its page shown and its documents downloaded.
ALTER TABLE letter_access DROP CONSTRAINT letter_access_kind_check;
ALTER TABLE letter_access ADD CONSTRAINT letter_access_kind_check
    CHECK (kind IN ('view', 'download', 'read'));
