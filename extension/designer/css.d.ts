// esbuild bundles CSS imports into designer.css.
declare module '*.css';
