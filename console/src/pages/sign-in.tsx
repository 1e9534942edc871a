import { useState } from 'preact/hooks';
import { ErrorMessage } from '../components';
import { useApi, useSubmit } from '../hooks';

export function SignInPage({ onSignedIn }: { onSignedIn: () => Promise<void> | void }) {
  const api = useApi();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const submit = useSubmit(async () => {
    await api.signIn(username, password);
    setPassword('');
    await onSignedIn();
  });
  return (
    <main id="main" class="narrow">
      <h1>Sign in to Campus Access</h1>
      <form class="card form" onSubmit={submit.onSubmit}>
        <ErrorMessage error={submit.error} />
        <label for="username">Username or e-mail</label>
        <input
          id="username"
          name="username"
          autoComplete="username"
          required
          value={username}
          onInput={(e) => setUsername(e.currentTarget.value)}
        />
        <label for="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        <button type="submit" disabled={submit.busy}>
          {submit.busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
