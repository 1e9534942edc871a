import { render } from 'preact';
import { ApiClient, basePathOf } from './api';
import { ConsoleApp, LtiApp } from './app';
import { currentPath, setRouterBase } from './router';
import './styles.css';

const base = basePathOf(window.location.pathname);
setRouterBase(base);
const api = new ApiClient(base);
const root = document.getElementById('app')!;
const lti = currentPath() === '/lti' || currentPath().startsWith('/lti/');
render(lti ? <LtiApp api={api} /> : <ConsoleApp api={api} />, root);
