// The usual React setup the Leptos app is measured against: react-oidc-context over
// oidc-client-ts, authorization code + PKCE, tokens in memory (not sessionStorage), the
// person's name from UserInfo. Written without JSX so that it needs no build plugin.
import { createElement as h } from 'react';
import { createRoot } from 'react-dom/client';
import { AuthProvider, useAuth } from 'react-oidc-context';
import { InMemoryWebStorage, WebStorageStateStore } from 'oidc-client-ts';

const origin = window.location.origin;
const settings = {
  authority: 'http://127.0.0.1:9000',
  client_id: 'react-baseline',
  redirect_uri: `${origin}/callback`,
  post_logout_redirect_uri: `${origin}/`,
  scope: 'openid profile email',
  loadUserInfo: true,
  userStore: new WebStorageStateStore({ store: new InMemoryWebStorage() }),
  onSigninCallback: () => window.history.replaceState({}, document.title, '/'),
};

function App() {
  const auth = useAuth();
  if (auth.isLoading) return h('p', { role: 'status' }, 'Signing you in…');
  if (auth.error) {
    return h('section', { role: 'alert' },
      h('p', null, auth.error.message),
      h('button', { onClick: () => auth.signinRedirect() }, 'Try again'));
  }
  if (auth.isAuthenticated) {
    return h('section', null,
      h('h1', null, 'Welcome, ', h('span', { className: 'person-name' }, auth.user?.profile.name)),
      h('button', { onClick: () => auth.signoutRedirect({ id_token_hint: auth.user?.id_token }) }, 'Sign out'));
  }
  return h('section', null,
    h('h1', null, 'Sign in with your identity provider'),
    h('button', { onClick: () => auth.signinRedirect() }, 'Sign in'));
}

createRoot(document.getElementById('root')).render(h(AuthProvider, settings, h(App)));
