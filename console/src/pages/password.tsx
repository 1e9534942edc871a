import { useState } from 'preact/hooks';
import { ErrorMessage } from '../components';
import { useApi } from '../hooks';

/**
 * Change password (POST /auth/password). Every session ends with it, this one's cookie too: the
 * page then asks to sign in again with the new password.
 */
export function PasswordPage() {
  const api = useApi();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const mismatch = repeat !== '' && next !== repeat;
  if (done) {
    return (
      <div class="narrow">
        <h1>Password changed</h1>
        <p role="status">Your password was changed and every session ended.</p>
        <button type="button" onClick={() => api.endSession()}>
          Sign in with the new password
        </button>
      </div>
    );
  }
  return (
    <div class="narrow">
      <h1>Change password</h1>
      <form
        class="card form"
        onSubmit={async (e) => {
          e.preventDefault();
          if (mismatch) return;
          setError(null);
          try {
            await api.post('/auth/password', { current_password: current, new_password: next });
            setDone(true);
          } catch (err) {
            setError(err);
          }
        }}
      >
        <ErrorMessage error={error} />
        <label for="current-password">Current password</label>
        <input
          id="current-password"
          type="password"
          autoComplete="current-password"
          required
          value={current}
          onInput={(e) => setCurrent(e.currentTarget.value)}
        />
        <label for="new-password">New password (12 characters or more)</label>
        <input
          id="new-password"
          type="password"
          autoComplete="new-password"
          required
          minLength={12}
          value={next}
          onInput={(e) => setNext(e.currentTarget.value)}
        />
        <label for="repeat-password">New password again</label>
        <input
          id="repeat-password"
          type="password"
          autoComplete="new-password"
          required
          aria-invalid={mismatch}
          aria-describedby={mismatch ? 'repeat-hint' : undefined}
          value={repeat}
          onInput={(e) => setRepeat(e.currentTarget.value)}
        />
        {mismatch ? (
          <p id="repeat-hint" class="error-text">
            The two new passwords differ.
          </p>
        ) : null}
        <button type="submit">Change password</button>
      </form>
    </div>
  );
}
