// Entry of designer.html (an extension page: the default MV3 CSP, no inline script, no eval).
import '@xyflow/react/dist/style.css';
import './designer-ui.css';
import {createElement} from 'react';
import {createRoot} from 'react-dom/client';
import {App} from './app';

const root = document.getElementById('root');
if (root) createRoot(root).render(createElement(App));
