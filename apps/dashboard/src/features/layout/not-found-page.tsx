import { Link } from 'react-router-dom';
import { landingPath, useMe } from '../auth/session-context';
import { useDocumentTitle } from './use-document-title';

export const NotFoundPage = () => {
  useDocumentTitle('Page not found');
  const me = useMe();
  return (
    <section className="page">
      <h1>Page not found</h1>
      <p>There is no page at this address.</p>
      <p>
        <Link to={landingPath(me) ?? '/'}>Go to the start page</Link>
      </p>
    </section>
  );
};
