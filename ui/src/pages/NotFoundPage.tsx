export function NotFoundPage() {
  return (
    <div className="page">
      <div className="banner error" role="alert">
        <strong>No such page.</strong> The address <code>{window.location.hash}</code> names nothing cairn shows.
      </div>
      <a href="#/">Go to the experiments</a>
    </div>
  );
}
