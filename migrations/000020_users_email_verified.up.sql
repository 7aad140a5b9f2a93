-- When the account's email was proven: by a mailed link, a password reset
-- (which also proves the inbox), or a provider that vouched for it. An
-- unproven address never wins against someone who proves it later (see
-- account_claimed). Existing addresses stay unproven: nobody proved them.
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;
