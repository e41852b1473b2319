// The footer: what this shop is, in one honest sentence.
export function SiteFooter() {
  return (
    <footer className="site-footer">
      <div className="container">
        <p>
          Slow Morning is a demonstration shop: nothing is really charged or shipped. It exists to show one
          design choice, what a checkout request should wait for.
        </p>
      </div>
    </footer>
  );
}
